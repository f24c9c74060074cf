// GOV.UK Frontend's components (menu toggle, error summary focus, banners). Every page works
// without this script: it only enhances.
import { initAll } from "/govuk/govuk-frontend.min.js";
initAll();

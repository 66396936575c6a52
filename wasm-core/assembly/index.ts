// Placeholder entry; the core pipeline replaces it.
export { initEvents } from "./events";
export { anomalyName } from "./counters";
export { fieldName } from "../../protocols/fields";

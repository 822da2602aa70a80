export { ImageService, normalizeFilters, tagReference, type DeleteItem, type ImageEvent, type Filters, type InUse, type ResolvedImage } from "./service.ts";
export type { LoadResult } from "./transfer.ts";
export * as reference from "./reference.ts";

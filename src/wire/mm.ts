/**
 * The MM variable-message codec (spec §2, §5.1): the one reader and writer of
 * EFI_MM_COMMUNICATE_HEADER, the variable protocol's function header and
 * payloads, and the VarCheckPolicy header. Modelled on a protocol library's
 * split (one layout table, one lossless parser/serializer of typed messages,
 * zero-copy views for the hot path):
 *   mm/layout.ts    sizes, field offsets, the function table, functionIdOf()
 *   mm/messages.ts  typed messages: decode (lossless) and encode
 *   mm/view.ts      in-place views the service, replay and metrics read and write
 */
export * from './mm/layout.js';
export * from './mm/messages.js';
export * from './mm/view.js';

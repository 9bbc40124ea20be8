// Registers the binary store codecs (edk2 flash, AWS) with persist/formats.ts.
// Filled in when the codecs land; JSON is built in.
export {};

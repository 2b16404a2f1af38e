// What Next's generated next-env.d.ts provides, kept in the source tree so `tsc` works before the first build.
/// <reference types="next" />
/// <reference types="next/image-types/global" />

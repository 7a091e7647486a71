/** Leakwatch's version, as in package.json (kept equal by a test). */
export const toolVersion = '0.1.0';

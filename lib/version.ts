/** The product version, from package.json (shown by the portal, the LMTP banner and doctor). */
export const version: string = (require('../package.json') as { version: string }).version;

/** What shared code the console runs expects of Node, as console/src/bufferShim.ts provides it. */
declare const Buffer: { byteLength(text: string, encoding: 'utf8'): number };

// HMAC-SHA256 vectors computed independently of the code under test, with Node's own crypto:
//   node -e "const c=require('crypto');
//     console.log(c.createHmac('sha256','test-privacy-key').update(TEXT).digest('hex'))"
// The tests check Web Crypto in workerd (src/privacy/hash.ts) against them.

export const TEST_HASH_KEY = 'test-privacy-key';

export const HMAC_VECTORS: Readonly<Record<string, string>> = {
  'ada@example.com': 'dea3037c4e10d1533c7b262e3b5ccf651e72eb98081e73f97a21dbee37c7e516',
  '"ssn"': 'ec1b63df1c5dd06c4a1bfde6f1a6e9990ef757ab5f9a4808891ee01c26252044',
  '{"a":1}': 'fcee31239bcb8d557dad67fbcf263a245b7d026be313476271d3b55511f77e75',
  '123-45-6789': '6d3748903ce3b40a0fa26955b3569c61705c3332c33c3fe0e3d271e3c895a11f',
  'u-42': '7eea8fec36c69fec93a89a09ce84ee47e5cb0f4964ffc06c2092b14a7f9b3c85',
  'anon-7': '18a7e4e57e8f68b61c22469bed11f1921c66367fc06451a6975f8f249a37e589',
  Ada: 'e9f1bc577a073aaf9773dfa329d1787e62e9ebdc9f50a9a2dfef7ade7544d433',
  '42': 'faf341c0019f4cf4dde08a0e9c2aeddd4361a483c8e016e25ee4efae67a4f07f',
  x: 'c245789f6aae80ff402a682cfd1b3566b756c5b48ce0a1faa76118a7939dfd44',
  'userId:u-42': '5db120bbb4881c9ad5070c79cccdc046278f91da4f3881b279e6411b5c18ea62',
};

/** The vector of `text`, or a test failure naming it. */
export function vector(text: string): string {
  const v = HMAC_VECTORS[text];
  if (v === undefined) throw new Error(`no HMAC vector for ${JSON.stringify(text)}`);
  return v;
}

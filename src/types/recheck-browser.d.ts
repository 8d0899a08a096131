// recheck's pure-JavaScript build (its `browser` entry): the same API as the package's main
// entry, which would start a native or JVM helper process. Types from the package.
declare module 'recheck/lib/browser.js' {
  export { check, checkSync } from 'recheck';
}

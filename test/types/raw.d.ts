// Vite's `?raw` imports (used to read wrangler.toml in tests).
declare module '*?raw' {
  const text: string;
  export default text;
}

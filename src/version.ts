// Name and version served at GET /, read from package.json at build time.
import pkg from '../package.json';

export const NAME: string = pkg.name;
export const VERSION: string = pkg.version;

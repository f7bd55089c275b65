// Minimal typings for the part of better-sqlite3 the peer app uses (@types/better-sqlite3 is not installed).
declare module 'better-sqlite3' {
  class Database {
    constructor(path: string);
    pragma(source: string): unknown;
    close(): void;
  }
  export default Database;
}

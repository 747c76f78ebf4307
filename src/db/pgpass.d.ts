/** pgpass (pg's own `~/.pgpass` reader) ships no types. */
declare module 'pgpass' {
  export default function pgpass(connection: object, callback: (password: string | undefined) => void): void;
}

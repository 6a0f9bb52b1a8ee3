/**
 * A Node built-in, imported only when called under Node. The specifier is
 * built at run time and marked for webpack and Vite, so browser bundlers
 * neither try to resolve it nor need `node:*` marked external.
 */
export function importNode<T>(name: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ `node:${name}`) as Promise<T>;
}

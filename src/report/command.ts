export async function reportCommand(_args: string[]): Promise<number> {
  return 0;
}

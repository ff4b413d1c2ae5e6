// What the @org/core README's example takes as given: a database connection.
interface Connection {
  findUser(id: number): Promise<{ id: number; name: string } | undefined>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}
export const openConnection = async (): Promise<Connection> => ({
  findUser: async (id) => (id === 1 ? { id, name: 'Ann' } : undefined),
  commit: async () => {},
  rollback: async () => {},
});

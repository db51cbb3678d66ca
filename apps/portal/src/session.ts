import type { Me } from './api';

/** Who is signed in and what the portal may offer them (a reader sees no buttons that change things). */
export interface Session {
  me: Me;
  isAdmin: boolean;
}

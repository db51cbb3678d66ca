/** Whether X-Forwarded-* headers are trusted (the app runs behind a proxy). */
export class TrustProxy {
  constructor(readonly enabled: boolean) {}
}

import DataLoader from 'dataloader';
import { requestMeta, type Context } from '../../context';

const piiReads = new WeakMap<Context, DataLoader<string, true>>();

/**
 * Records that the viewer read a finding's personal data: once per request (or subscription
 * event) per finding, however many subject* fields are selected, batched across the response.
 */
export function recordPiiRead(ctx: Context, findingId: string): Promise<true> {
  let loader = piiReads.get(ctx);
  if (!loader) {
    loader = new DataLoader<string, true>(async (ids) => {
      await ctx.services.investigations.recordPiiRead(requestMeta(ctx), ids);
      return ids.map(() => true as const);
    });
    piiReads.set(ctx, loader);
  }
  return loader.load(findingId);
}

/** Forgets which reads were recorded (a subscription's next event is a new read). */
export function resetPiiReads(ctx: Context): void {
  piiReads.delete(ctx);
}

// Type tests: the event maps must be usable by socket.io and socket.io-client generics.
import { describe, expectTypeOf, it } from 'vitest';
import type { Server, Socket as ServerSocket } from 'socket.io';
import type { Socket } from 'socket.io-client';
import type { ActionAck, ClientToServerEvents, GenerationParams, GenerationParamsInput, ServerToClientEvents } from './index.js';
import type { SamplerId } from '../../native/sampling/names.js';

describe('protocol types', () => {
  it('types the generate action and its ack', () => {
    type Generate = Parameters<ClientToServerEvents['generate']>;
    expectTypeOf<Generate[0]>().toHaveProperty('prompt');
    expectTypeOf<{ prompt: string; sampler: string }>().toExtend<Generate[0]>();
    expectTypeOf<Parameters<Generate[1]>[0]>().toEqualTypeOf<ActionAck<'generate'>>();
    expectTypeOf<Extract<ActionAck<'generate'>, { ok: true }>['job_id']>().toEqualTypeOf<string>();
    expectTypeOf<Extract<ActionAck<'generate'>, { ok: false }>['error']['code']>().toExtend<string>();
  });

  it('normalises the sampler to an id after validation', () => {
    expectTypeOf<GenerationParams['sampler']>().toEqualTypeOf<SamplerId>();
    expectTypeOf<GenerationParamsInput['sampler']>().toEqualTypeOf<string | undefined>();
  });

  it('plugs into socket.io and socket.io-client generics', () => {
    type ServerSideSocket = ServerSocket<ClientToServerEvents, ServerToClientEvents>;
    expectTypeOf<Parameters<ServerSideSocket['emit']>[0]>().toEqualTypeOf<keyof ServerToClientEvents>();
    expectTypeOf<Server<ClientToServerEvents, ServerToClientEvents>>().toHaveProperty('to');
    type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
    expectTypeOf<Parameters<Client['emit']>[0]>().toEqualTypeOf<keyof ClientToServerEvents>();
    expectTypeOf<Parameters<ServerToClientEvents['preview']>[0]['data']>().toEqualTypeOf<Uint8Array | ArrayBuffer>();
  });
});

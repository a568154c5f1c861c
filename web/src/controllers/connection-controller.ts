// Gives a component the connection state and re-renders it when the state changes.
import type { ReactiveControllerHost } from 'lit';
import type { ConnectionState } from '../data/connection.js';
import { connection } from '../data/services.js';
import { EventController } from './event-controller.js';

export class ConnectionController extends EventController {
  constructor(host: ReactiveControllerHost, onChange?: (state: ConnectionState) => void) {
    super(host, connection, ['state', 'queue'], onChange ? () => onChange(connection.state) : undefined);
  }

  get state(): ConnectionState {
    return connection.state;
  }

  get connected(): boolean {
    return connection.state === 'connected';
  }
}

// Entry point: loads the shell component and registers the service worker.
import './app/easel-app.js';
import { registerServiceWorker } from './app/service-worker.js';

registerServiceWorker();

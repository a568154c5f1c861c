// The app-level DOM events components raise (bubbling, composed) and the shell handles, typed in
// GlobalEventHandlersEventMap so listeners get the detail type.
import type { GalleryImage } from '../data/protocol.js';
import type { Tab } from './routes.js';

export interface NavigateDetail {
  tab: Tab;
}

export interface SendImageDetail {
  image: GalleryImage;
  target: 'img2img' | 'inpaint' | 'controlnet';
}

export interface UseParamsDetail {
  image: GalleryImage;
}

declare global {
  interface GlobalEventHandlersEventMap {
    'easel-navigate': CustomEvent<NavigateDetail>;
    'easel-send-image': CustomEvent<SendImageDetail>;
    'easel-use-params': CustomEvent<UseParamsDetail>;
    'easel-fix-image': CustomEvent<UseParamsDetail>;
  }
}

export function appEvent<K extends 'easel-navigate' | 'easel-send-image' | 'easel-use-params' | 'easel-fix-image'>(
  type: K,
  detail: GlobalEventHandlersEventMap[K]['detail'],
): CustomEvent<GlobalEventHandlersEventMap[K]['detail']> {
  return new CustomEvent(type, { detail, bubbles: true, composed: true });
}

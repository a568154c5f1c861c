// Socket actions on the gallery: get_gallery (filters + keyset pages), update_image (favorite) and
// delete_images; changes are broadcast so every open tab stays in step.
import type { ActionHandler } from './ack.js';
import type { HandlerDeps } from './ports.js';

export function galleryHandlers(deps: HandlerDeps) {
  const getGallery: ActionHandler<'get_gallery'> = (q) => deps.gallery.list(q);

  const updateImage: ActionHandler<'update_image'> = (p) => {
    const { id, ...patch } = p;
    const image = deps.gallery.update(id, patch);
    deps.events.toAll('gallery:changed', { updated: [image] });
    return { image };
  };

  const deleteImages: ActionHandler<'delete_images'> = async (p) => {
    const res = await deps.gallery.delete(p.ids);
    if (res.deleted.length > 0) deps.events.toAll('gallery:changed', { deleted: res.deleted });
    return res;
  };

  return { get_gallery: getGallery, update_image: updateImage, delete_images: deleteImages };
}

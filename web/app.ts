/**
 * The local demo page: sign in as an owner, upload through the presigned flow, watch each upload
 * through ingest and rendering, browse, search, inspect and delete the owner's images. This module
 * only finds the page's elements and connects the parts.
 */
import type { PipelineEvent } from '../lambdas/core/events.js';
import { DetailDialog } from './detail.js';
import { acceptFiles } from './drop-zone.js';
import { followEventStream } from './event-stream.js';
import { Gallery } from './gallery.js';
import { type Session, trackIdentity } from './identity.js';
import { SearchBar } from './search-bar.js';
import { UploadList } from './upload-list.js';
import { UploadFollower } from './upload-status.js';
import { Uploader } from './uploader.js';

function byId<T extends HTMLElement>(id: string, type: abstract new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return element;
}

let session: Session | undefined;
const currentSession = (): Session => {
  if (!session) throw new Error('not signed in yet');
  return session;
};

const gallery = new Gallery(
  {
    grid: byId('gallery', HTMLUListElement),
    more: byId('more', HTMLButtonElement),
    status: byId('gallery-status', HTMLElement),
    mode: byId('search-mode', HTMLElement),
  },
  {
    open: (imageId) => void openDetail(imageId),
    pickTag: (name) => search.addTag(name),
  },
);

const search = new SearchBar(
  {
    form: byId('search-form', HTMLFormElement),
    input: byId('search-input', HTMLInputElement),
    chips: byId('search-chips', HTMLElement),
    colours: byId('colour-filter', HTMLElement),
    clear: byId('search-clear', HTMLButtonElement),
  },
  (filters) => {
    // Before sign-in there is nothing to search; the filters apply from the first search after it.
    if (session) void gallery.search(filters);
  },
);

const detail = new DetailDialog(
  {
    dialog: byId('detail', HTMLDialogElement),
    title: byId('detail-title', HTMLElement),
    body: byId('detail-body', HTMLElement),
    error: byId('detail-error', HTMLElement),
    close: byId('detail-close', HTMLButtonElement),
    remove: byId('delete-button', HTMLButtonElement),
  },
  {
    deleteImage: async (imageId) => {
      await currentSession().api.deleteImage(imageId);
      gallery.remove(imageId);
    },
    findSimilar: (imageId, limit) => currentSession().api.similarImages(imageId, limit),
    open: (imageId) => void openDetail(imageId),
    pickTag: (name) => search.addTag(name),
  },
);

const uploads = new UploadList(byId('uploads', HTMLOListElement));

/** The signed-in owner's uploads, followed on their event stream; a new one per session. */
let following: UploadFollower | undefined;

const uploader = new Uploader(({ name, size }) => {
  const row = uploads.add(name, size);
  const watch = following?.watch((update) => row.show(update.status, update.message));
  return {
    progress: (fraction) => row.progress(fraction),
    duplicate: (imageId) => {
      row.show('duplicate');
      showImage(imageId);
    },
    interrupted: () => row.show('interrupted'),
    uploaded: (uploadId) => watch?.follow(uploadId),
    failed: (message) => row.show('error', message),
  };
});

/** Every event of the owner's, whichever page or tool made the change, shows in the gallery. */
function showEvent(event: PipelineEvent): void {
  if (event.type === 'image.deleted') gallery.remove(event.imageId);
  else if (event.type !== 'upload.rejected') showImage(event.imageId);
}

/** Puts the image's latest view on its card; a card that cannot be read says so itself. */
function showImage(imageId: string): void {
  gallery.refresh(imageId).catch(() => {});
}

/** Opens the image as it is now, not as its card last saw it. */
async function openDetail(imageId: string): Promise<void> {
  const image = await gallery.refresh(imageId).catch(() => undefined);
  if (image) detail.show(image);
}

acceptFiles(byId('drop-zone', HTMLElement), byId('file-input', HTMLInputElement), (files) =>
  uploader.add(files),
);

trackIdentity(
  {
    form: byId('owner-form', HTMLFormElement),
    input: byId('owner-input', HTMLInputElement),
    status: byId('owner-status', HTMLOutputElement),
  },
  (next) => {
    session = next;
    detail.close();
    search.reset();
    uploads.clear();
    uploader.useSession(next);
    void gallery.load(next);
    const follower = new UploadFollower(next.api, showImage);
    following = follower;
    void followEventStream(next.token, next.signal, {
      open: () => follower.connected(),
      drop: () => follower.disconnected(),
      event: (event) => {
        follower.hear(event);
        showEvent(event);
      },
    });
  },
);

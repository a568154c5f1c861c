// Lets a tab take an image file dropped anywhere on it: `dragging` is true while files hover
// (the tab shows its drop hint), and the first dropped file goes to the callback.
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export class FileDropController implements ReactiveController {
  dragging = false;

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly onFile: (file: File) => void,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.host.addEventListener('dragover', this.onDragOver);
    this.host.addEventListener('dragleave', this.onDragLeave);
    this.host.addEventListener('drop', this.onDrop);
  }

  hostDisconnected(): void {
    this.host.removeEventListener('dragover', this.onDragOver);
    this.host.removeEventListener('dragleave', this.onDragLeave);
    this.host.removeEventListener('drop', this.onDrop);
  }

  private set(dragging: boolean): void {
    if (this.dragging === dragging) return;
    this.dragging = dragging;
    this.host.requestUpdate();
  }

  private readonly onDragOver = (e: DragEvent): void => {
    // Text or links dragged over the tab are not ours to take.
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    this.set(true);
  };

  private readonly onDragLeave = (e: DragEvent): void => {
    if (e.relatedTarget === null || !this.host.contains(e.relatedTarget as Node)) this.set(false);
  };

  private readonly onDrop = (e: DragEvent): void => {
    e.preventDefault();
    this.set(false);
    const file = e.dataTransfer?.files[0];
    if (file) this.onFile(file);
  };
}

/**
 * Hands over the files picked in `input` or dropped on `zone`. A drop anywhere else on the page is
 * refused, so a near miss does not navigate away to the dropped file.
 */
export function acceptFiles(zone: HTMLElement, input: HTMLInputElement, onFiles: (files: FileList) => void) {
  input.addEventListener('change', () => {
    if (input.files) onFiles(input.files);
    // Picking the same file again is a new upload (and a chance to see it found a duplicate).
    input.value = '';
  });

  const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
  document.addEventListener('dragover', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    const over = zone.contains(event.target as Node);
    if (event.dataTransfer) event.dataTransfer.dropEffect = over ? 'copy' : 'none';
    zone.classList.toggle('dragging', over);
  });
  document.addEventListener('dragleave', (event) => {
    if (!event.relatedTarget) zone.classList.remove('dragging');
  });
  document.addEventListener('drop', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    zone.classList.remove('dragging');
    if (event.dataTransfer && zone.contains(event.target as Node)) onFiles(event.dataTransfer.files);
  });
}

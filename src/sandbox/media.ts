import { hex } from './ids.ts';

export interface StoredMedia {
  id: string;
  bytes: Buffer;
  contentType: string;
  fileName?: string | undefined;
}

/** Files the simulated customer "uploaded", served back where the provider would host them. */
export class MediaStore {
  #items = new Map<string, StoredMedia>();

  put(bytes: Buffer, contentType: string, fileName?: string, id: string = hex(16)): StoredMedia {
    const item = { id, bytes, contentType, fileName };
    this.#items.set(id, item);
    return item;
  }

  get(id: string): StoredMedia | undefined {
    return this.#items.get(id);
  }

  clear(): void {
    this.#items.clear();
  }
}

/** A small valid file per kind, so tests that don't care about content still download real bytes. */
export function placeholderMedia(kind: 'image' | 'video' | 'audio' | 'file'): { bytes: Buffer; contentType: string; fileName: string } {
  switch (kind) {
    case 'image':
      // 1x1 transparent PNG
      return {
        bytes: Buffer.from(
          'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
          'base64',
        ),
        contentType: 'image/png',
        fileName: 'photo.png',
      };
    case 'video':
      return { bytes: Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex'), contentType: 'video/mp4', fileName: 'clip.mp4' };
    case 'audio':
      return { bytes: Buffer.from('4f676753000200000000000000000000', 'hex'), contentType: 'audio/ogg', fileName: 'voice.ogg' };
    case 'file':
      return { bytes: Buffer.from('%PDF-1.4\n%\u00e2\u00e3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n', 'latin1'), contentType: 'application/pdf', fileName: 'document.pdf' };
  }
}

// Renders the PWA's PNG icons from the hand-made web/public/icons/icon.svg with sharp. The PNGs are
// committed; run this again only after changing the SVG.
//
// Usage: npx tsx scripts/make-icons.ts [--help]
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const iconsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'web', 'public', 'icons');

/** Maskable icons must keep their content inside the central 80 % "safe zone" of the canvas. */
const MASKABLE_SAFE_ZONE = 0.8;
const BACKGROUND = '#1b1d23';

async function render(svg: Buffer, size: number, out: string, maskable = false): Promise<void> {
  if (!maskable) {
    await sharp(svg, { density: 300 }).resize(size, size).png().toFile(join(iconsDir, out));
    return;
  }
  const inner = Math.round(size * MASKABLE_SAFE_ZONE);
  const content = await sharp(svg, { density: 300 }).resize(inner, inner).png().toBuffer();
  await sharp({ create: { width: size, height: size, channels: 4, background: BACKGROUND } })
    .composite([{ input: content, gravity: 'center' }])
    .png()
    .toFile(join(iconsDir, out));
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log('npx tsx scripts/make-icons.ts: writes icon-192.png, icon-512.png, icon-maskable-512.png and apple-touch-icon.png beside web/public/icons/icon.svg');
    return;
  }
  await mkdir(iconsDir, { recursive: true });
  const svg = await readFile(join(iconsDir, 'icon.svg'));
  await render(svg, 192, 'icon-192.png');
  await render(svg, 512, 'icon-512.png');
  await render(svg, 512, 'icon-maskable-512.png', true);
  await render(svg, 180, 'apple-touch-icon.png');
  console.log(`icons written to ${iconsDir}`);
}

await main();

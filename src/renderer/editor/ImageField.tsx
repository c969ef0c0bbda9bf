/**
 * The image picker bound to the engine's catalog: bundled and held-out images, plus uploads
 * (PNG/.npy from disk, sent to the engine once and then listed like the bundled ones).
 */
import { useHost } from '../host/context';
import { useCatalog } from '../state/catalog';
import { ImagePicker } from '../ui/ImagePicker';

/** Props: the chosen ref, what to do on a choice, the test id; `disabled` while a run uses it. */
export function ImageField({ value, onChange, testId, disabled }: { value: string; onChange: (ref: string) => void; testId: string; disabled?: boolean }): React.JSX.Element {
  const images = useCatalog((s) => s.images);
  const addImage = useCatalog((s) => s.addImage);
  const { engine, files } = useHost();
  const upload = async (): Promise<string | undefined> => {
    const f = await files.open([{ name: 'Images', extensions: ['png', 'npy'] }]);
    if (!f) return undefined;
    const { ref } = await engine.call('images.upload', { name: f.name, base64: f.base64 });
    addImage({ ref, label: f.name, thumbnail: f.name.endsWith('.png') ? `data:image/png;base64,${f.base64}` : '' });
    return ref;
  };
  return <ImagePicker images={images} value={value} onChange={onChange} testId={testId} onUpload={upload} {...(disabled !== undefined ? { disabled } : {})} />;
}

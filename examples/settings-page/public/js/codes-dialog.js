// Recovery codes, shown once (after enabling, and after getting new ones),
// with Copy and Download.
const dialog = document.getElementById('codes-dialog');
const list = document.getElementById('recovery-codes');
const copied = document.getElementById('codes-copied');
const done = document.getElementById('codes-done');
let codes = [];
let onDone = () => {};

document.getElementById('copy-codes').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText(codes.join('\n'));
    copied.textContent = 'Copied to the clipboard.';
  } catch {
    copied.textContent = 'The browser did not allow copying: select the codes and copy them instead.';
  }
});

document.getElementById('download-codes').addEventListener('click', () => {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([`${codes.join('\n')}\n`], { type: 'text/plain' }));
  link.download = 'recovery-codes.txt';
  link.click();
  URL.revokeObjectURL(link.href);
});

done.addEventListener('click', () => {
  dialog.close();
  codes = [];
  list.replaceChildren();
  onDone();
});
// Escape would close it without the next step: the codes are read once, so leave through the button.
dialog.addEventListener('cancel', (event) => event.preventDefault());

/** Shows `recoveryCodes` with `intro` before them, `next` after, and the `action` button that runs `then`. */
export function showRecoveryCodes({ recoveryCodes, intro, next, action, then }) {
  codes = recoveryCodes;
  onDone = then;
  document.getElementById('codes-intro').textContent = intro;
  document.getElementById('codes-next').textContent = next;
  copied.textContent = '';
  done.textContent = action;
  list.replaceChildren(...codes.map((code) => Object.assign(document.createElement('li'), { textContent: code })));
  dialog.showModal();
  done.focus();
}

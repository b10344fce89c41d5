// The notice bar: one short message at a time, gone after a while.
import { S } from './console_state.js';
import { $ } from './dom.js';

const NOTICE_MS = 8000;

export function notice(text) {
  const box = $('notice');
  $('notice-text').textContent = text;
  box.hidden = false;
  clearTimeout(S.noticeTimer);
  S.noticeTimer = setTimeout(() => {
    box.hidden = true;
  }, NOTICE_MS);
}

export function hideNotice() {
  clearTimeout(S.noticeTimer);
  $('notice').hidden = true;
}

export function wireNotice() {
  $('notice-dismiss').addEventListener('click', hideNotice);
}

// What the console holds between frames: the session, the dialogs, the list, the open chat, the panels.
export const S = {
  token: null, // from /api/login, memory only
  me: null, // {id, name, email, role}
  want: false, // logged in (the connection is socket.js's)
  dialogs: new Map(), // key(id) -> record
  currentKey: null,
  view: new Map(), // seq -> <li> of the open dialog
  pending: new Map(), // client_msg_id -> pending send (reply or note)
  actionRefs: new Map(), // ref -> {what, key}: close, status, leave, assign
  typingSentAt: 0,
  typingOn: false,
  typingDialogId: null,
  typingIdleTimer: 0,
  typingHideTimer: 0,
  noticeTimer: 0,
  listRenderQueued: false,
  // the list
  filter: { channel: [], type: [], operator: [], status: [], q: '' },
  listKeys: new Set(), // dialogs the server listed for the filter, plus live ones that match it
  nextCursor: null,
  listToken: 0, // answers to older list requests are ignored
  refetchTimer: 0,
  channels: [{ id: 'website', label: 'Website' }],
  operators: [], // colleagues (admins: everyone)
  lineIds: [],
  // the chat
  mode: 'reply', // or 'note'
  canned: new Map(), // line id -> [reply]
  cannedItems: [],
  cannedActive: 0,
  search: { q: '', hits: [], index: -1 },
  details: null,
  detailsTimer: 0,
  detailsOpen: true,
  reminders: new Map(), // id -> fired reminder not dismissed
  page: 'inbox',
};

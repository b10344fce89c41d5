// The dialog statuses as the console names them, and the moves the status menu offers.

const STATUS_LABELS = { new: 'New', in_progress: 'In progress', waiting: 'Waiting for client', finished: 'Finished' };
export const OPEN_STATUSES = ['new', 'in_progress', 'waiting'];

// The status menu, as domain/dialog_state.py allows it (the server checks again).
export const STATUS_TARGETS = {
  new: ['in_progress', 'finished'],
  in_progress: ['waiting', 'finished'],
  waiting: ['in_progress', 'finished'],
  finished: ['in_progress'],
};

export function statusLabel(status) {
  return STATUS_LABELS[status] || (status ? String(status) : '');
}

export function statusClass(status) {
  return `status status-${STATUS_LABELS[status] ? status : 'other'}`;
}

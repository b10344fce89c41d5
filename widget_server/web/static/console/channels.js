// Channels (website, connectors): their icons and names.
import { S } from './console_state.js';
import { svgIcon } from './dom.js';

// Channel icons: path data drawn in a 24x24 box. Connectors add theirs here.
const CHANNEL_ICONS = {
  website:
    'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm6.9 6h-3a15.7 15.7 0 0 0-1.4-3.6A8 8 0 0 1 18.9 8ZM12 4c.8 1.2 1.5 2.5 1.9 4h-3.8c.4-1.5 1.1-2.8 1.9-4ZM4.3 14a8.2 8.2 0 0 1 0-4h3.4a16.5 16.5 0 0 0 0 4H4.3Zm.8 2h3a15.7 15.7 0 0 0 1.4 3.6A8 8 0 0 1 5.1 16Zm3-8h-3a8 8 0 0 1 4.3-3.6C8.3 5.6 7.8 6.8 8.1 8ZM12 20c-.8-1.2-1.5-2.5-1.9-4h3.8c-.4 1.5-1.1 2.8-1.9 4Zm2.3-6H9.7a14.7 14.7 0 0 1 0-4h4.6a14.7 14.7 0 0 1 0 4Zm.3 5.6c.6-1.1 1.1-2.3 1.4-3.6h3a8 8 0 0 1-4.4 3.6Zm1.7-5.6a16.5 16.5 0 0 0 0-4h3.4a8.2 8.2 0 0 1 0 4h-3.4Z',
};

const CHANNEL_LABELS = { website: 'Website' };

export function channelIcon(channel) {
  return svgIcon(CHANNEL_ICONS[channel] || CHANNEL_ICONS.website, 'channel-svg');
}

export function channelLabel(channel) {
  const found = S.channels.find((c) => c.id === channel);
  return (found && found.label) || CHANNEL_LABELS[channel] || channel || 'Website';
}

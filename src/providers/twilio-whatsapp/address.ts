/** WhatsApp addresses on Twilio are `whatsapp:+E164`; Parley keeps the bare `+E164`. */
const PREFIX = 'whatsapp:';

export function bareNumber(address: string): string {
  return address.startsWith(PREFIX) ? address.slice(PREFIX.length) : address;
}

export function whatsappAddress(number: string): string {
  return number.startsWith(PREFIX) ? number : PREFIX + number;
}

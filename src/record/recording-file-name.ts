/**
 * `<streamSid>.wav`, safe as a file name whatever the carrier put in the id: anything but letters,
 * digits, '.', '_' and '-' becomes '_', and a leading dot is escaped, so an id can neither leave
 * the directory ('../x', '/etc/x') nor make a hidden file.
 */
export function recordingFileName(streamSid: string): string {
  const safe = streamSid.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\./, '_');
  return `${safe || '_'}.wav`;
}

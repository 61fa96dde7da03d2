/** The experiment's alphabet: digits then capital letters, 36 classes. */
export const DEFAULT_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A mail address as the archive keeps it: display name and address (lower-cased at ingest). */
export interface Address {
  name: string;
  address: string;
}

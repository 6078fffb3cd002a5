export { platformSmoke } from './platform-smoke';

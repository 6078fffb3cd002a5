import { config } from '../lib/config';
import { writeWorkflowBundle } from '../lib/temporal/bundle';

writeWorkflowBundle(config().DATA_DIR).then(
  (b) => console.log(`workflow bundle written to ${b.path}`),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

import { config } from '../lib/config';
import { writeWorkflowBundle } from '../lib/temporal/bundle';

writeWorkflowBundle(config().DATA_DIR).then(
  (p) => console.log(`workflow bundle written to ${p}`),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

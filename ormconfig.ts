// The DataSource the TypeORM CLI uses (npm run typeorm -- migration:run | migration:generate ...).
import { loadConfig, loadDotEnv } from '#src/config/config.js';
import { createDataSource } from '#src/database/data-source.js';

loadDotEnv();
export default await createDataSource(loadConfig().database);

import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '#src/config/config.js';
import { dataSourceOptions, detectMysqlFlavour } from '#src/database/data-source.js';
import { Database } from '#src/database/database.service.js';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: async (config: AppConfig) => ({
        ...dataSourceOptions(config.database, await detectMysqlFlavour(config.database)),
        migrationsRun: true,
        // Keep trying at start-up briefly, then fail: the orchestrator restarts us.
        retryAttempts: config.nodeEnv === 'test' ? 0 : 5,
        retryDelay: 1000,
      }),
    }),
  ],
  providers: [Database],
  exports: [Database],
})
export class DatabaseModule {}

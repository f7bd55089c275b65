import { Module } from '@nestjs/common';
import { ConsoleController } from '#src/console/console.controller.js';
import { ConsoleFiles } from '#src/console/console-files.js';
import { ConsoleSession } from '#src/console/console-session.js';

/** Serves the console and account single-page app (docs/console.md). */
@Module({
  controllers: [ConsoleController],
  providers: [ConsoleFiles, ConsoleSession],
})
export class ConsoleModule {}

import { Migration } from '@mikro-orm/migrations';

export class Migration20261123130022AuthServiceInitial extends Migration {
  static service = 'auth-service';
  static dependsOn: string[] = [];
  static transactional = true;

  override async up(): Promise<void> {
    this.addSql(`create table "user" ("id" serial primary key, "email" varchar(320) not null, "display_name" varchar(120) not null, "role" text not null default 'member', "settings" jsonb not null default '{}', "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now());`);
    this.addSql(`alter table "user" add constraint "user_email_unique" unique ("email");`);
    this.addSql(`create table "session" ("id" uuid not null, "user_id" int not null, "user_agent" text null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "session_expires_at_index" on "session" ("expires_at");`);
    this.addSql(`create table "api_key" ("id" serial primary key, "user_id" int not null, "prefix" varchar(12) not null, "secret_hash" varchar(128) not null, "scopes" text[] not null default '{}', "last_used_at" timestamptz null, "created_at" timestamptz not null default now());`);
    this.addSql(`create index "api_key_prefix_index" on "api_key" ("prefix");`);
    this.addSql(`alter table "user" add constraint "user_role_check" check ("role" in ('member', 'admin', 'support'));`);
    this.addSql(`alter table "session" add constraint "session_user_id_foreign" foreign key ("user_id") references "user" ("id") on delete cascade;`);
    this.addSql(`alter table "api_key" add constraint "api_key_user_id_foreign" foreign key ("user_id") references "user" ("id") on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "session" drop constraint "session_user_id_foreign";`);
    this.addSql(`alter table "api_key" drop constraint "api_key_user_id_foreign";`);
    this.addSql(`drop table if exists "user" cascade;`);
    this.addSql(`drop table if exists "session" cascade;`);
    this.addSql(`drop table if exists "api_key" cascade;`);
  }
}

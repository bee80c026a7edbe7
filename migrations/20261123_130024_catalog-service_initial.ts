import { Migration } from '@mikro-orm/migrations';

export class Migration20261123130024CatalogServiceInitial extends Migration {
  static service = 'catalog-service';
  static dependsOn: string[] = [];
  static transactional = true;

  override async up(): Promise<void> {
    this.addSql(`create table "product" ("id" serial primary key, "sku" varchar(64) not null, "name" varchar(200) not null, "category_id" int not null, "tags" text[] not null default '{}', "price" numeric(12,2) not null, "active" boolean not null default true);`);
    this.addSql(`alter table "product" add constraint "product_sku_unique" unique ("sku");`);
    this.addSql(`create index "product_category_id_name_index" on "product" ("category_id", "name");`);
    this.addSql(`create table "category" ("id" serial primary key, "slug" varchar(80) not null, "name" varchar(120) not null, "parent_id" int null);`);
    this.addSql(`alter table "category" add constraint "category_slug_unique" unique ("slug");`);
    this.addSql(`alter table "product" add constraint "product_category_id_foreign" foreign key ("category_id") references "category" ("id");`);
    this.addSql(`alter table "category" add constraint "category_parent_id_foreign" foreign key ("parent_id") references "category" ("id") on delete set null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "product" drop constraint "product_category_id_foreign";`);
    this.addSql(`alter table "category" drop constraint "category_parent_id_foreign";`);
    this.addSql(`drop table if exists "product" cascade;`);
    this.addSql(`drop table if exists "category" cascade;`);
  }
}

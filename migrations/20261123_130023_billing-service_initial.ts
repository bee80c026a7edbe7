import { Migration } from '@mikro-orm/migrations';

export class Migration20261123130023BillingServiceInitial extends Migration {
  static service = 'billing-service';
  static dependsOn: string[] = [
    '20261123_130022_auth-service_initial',
  ];
  static transactional = true;

  override async up(): Promise<void> {
    this.addSql(`create table "invoice_line" ("id" serial primary key, "invoice_id" int not null, "description" varchar(500) not null, "quantity" int not null, "unit_price" numeric(12,2) not null);`);
    this.addSql(`create table "invoice" ("id" serial primary key, "customer_id" int not null, "number" varchar(32) not null, "status" text not null default 'draft', "total" numeric(12,2) not null default '0', "issued_at" timestamptz null, "created_at" timestamptz not null default now());`);
    this.addSql(`alter table "invoice" add constraint "invoice_number_unique" unique ("number");`);
    this.addSql(`create table "customer" ("id" serial primary key, "user_id" int not null, "legal_name" varchar(200) not null, "tax_id" varchar(32) null, "currency" varchar(3) not null default 'EUR', "created_at" timestamptz not null default now());`);
    this.addSql(`alter table "customer" add constraint "customer_user_id_unique" unique ("user_id");`);
    this.addSql(`alter table "invoice_line" add constraint "invoice_line_invoice_id_foreign" foreign key ("invoice_id") references "invoice" ("id") on delete cascade;`);
    this.addSql(`alter table "invoice_line" add constraint "invoice_line_quantity_positive" check (quantity > 0);`);
    this.addSql(`alter table "invoice" add constraint "invoice_customer_id_foreign" foreign key ("customer_id") references "customer" ("id");`);
    this.addSql(`alter table "invoice" add constraint "invoice_status_check" check ("status" in ('draft', 'issued', 'paid', 'void'));`);
    this.addSql(`alter table "customer" add constraint "customer_user_id_foreign" foreign key ("user_id") references "user" ("id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "invoice_line" drop constraint "invoice_line_invoice_id_foreign";`);
    this.addSql(`alter table "invoice" drop constraint "invoice_customer_id_foreign";`);
    this.addSql(`drop table if exists "invoice_line" cascade;`);
    this.addSql(`drop table if exists "invoice" cascade;`);
    this.addSql(`drop table if exists "customer" cascade;`);
  }
}

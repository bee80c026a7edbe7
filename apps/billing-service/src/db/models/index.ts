export { Customer } from './customer.ts';
export { Invoice, InvoiceStatuses } from './invoice.ts';
export { InvoiceLine } from './invoice-line.ts';

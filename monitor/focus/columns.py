"""The FOCUS 1.2 columns the export writes, in order, with what each holds here.

Column IDs, data types and allowed values are FOCUS 1.2's (FOCUS_Spec v1.2 specification/columns;
the FinOps Foundation's focus_validator model-1.2.json for which are mandatory). tests/data holds
the copy the test validates the file against. Provider-specific detail goes in `x_` columns, after
the FOCUS ones, as the column-handling attribute asks.
"""

from __future__ import annotations

FOCUS_VERSION = "1.2"

COLUMNS: tuple[str, ...] = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
    "x_Model",
    "x_TokenType",
    "x_ServiceTier",
    "x_ContextWindow",
    "x_Unpriced",
    "x_BillSource",
)

PROVIDER_NAMES = {"openai": "OpenAI", "anthropic": "Anthropic"}
SERVICE_NAMES = {"openai": "OpenAI API", "anthropic": "Claude API"}
SERVICE_CATEGORY = "AI and Machine Learning"
SERVICE_SUBCATEGORY = "Generative AI"
CURRENCY = "USD"
UNIT_NAMES = {
    "web_search_requests": "Requests",
    "file_search_requests": "Requests",
    "images": "Images",
    "characters": "Characters",
    "seconds": "Seconds",
    "sessions": "Sessions",
    "bytes": "Bytes",
}
"""PricingUnit/ConsumedUnit of non-token units (FOCUS UnitFormat: a count of things)."""

"""Reference lists: ISO 3166-1 countries and the U.S. critical-infrastructure sectors."""

import pycountry
from django.db import models

COUNTRY_CHOICES = sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda pair: pair[1])
COUNTRY_NAMES = dict(COUNTRY_CHOICES)
UNITED_STATES = "US"


class Sector(models.TextChoices):
    """The 16 critical-infrastructure sectors of PPD-21 (as CISA lists them), or "other"."""

    CHEMICAL = "chemical", "Chemical"
    COMMERCIAL_FACILITIES = "commercial_facilities", "Commercial facilities"
    COMMUNICATIONS = "communications", "Communications"
    CRITICAL_MANUFACTURING = "critical_manufacturing", "Critical manufacturing"
    DAMS = "dams", "Dams"
    DEFENSE_INDUSTRIAL_BASE = "defense_industrial_base", "Defense industrial base"
    EMERGENCY_SERVICES = "emergency_services", "Emergency services"
    ENERGY = "energy", "Energy"
    FINANCIAL_SERVICES = "financial_services", "Financial services"
    FOOD_AND_AGRICULTURE = "food_and_agriculture", "Food and agriculture"
    GOVERNMENT_FACILITIES = "government_facilities", "Government facilities"
    HEALTHCARE = "healthcare", "Healthcare and public health"
    INFORMATION_TECHNOLOGY = "information_technology", "Information technology"
    NUCLEAR = "nuclear", "Nuclear reactors, materials, and waste"
    TRANSPORTATION = "transportation", "Transportation systems"
    WATER = "water", "Water and wastewater systems"
    OTHER = "other", "Other (not a critical-infrastructure sector)"


CRITICAL_INFRASTRUCTURE_SECTORS = frozenset(s for s in Sector if s != Sector.OTHER)

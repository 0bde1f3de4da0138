"""SQLAlchemy models, one module per aggregate."""

from webapp.models.account import ProviderAccount
from webapp.models.action import SimAction
from webapp.models.alert import Alert, AlertChannel, AlertNotification, AlertRule, AlertRuleChannel
from webapp.models.apikey import ApiKey
from webapp.models.audit import AuditEvent
from webapp.models.bulk import BulkJob, BulkJobItem
from webapp.models.lockout import LoginLockout
from webapp.models.saved_view import SavedView
from webapp.models.sim import Sim, SimChange, SimDocument
from webapp.models.sync import SyncRun
from webapp.models.usage import FleetUsageDay, QuotaSample, SimEvent, SimUsagePeriod, UsageDay
from webapp.models.user import Role, User
from webapp.models.user_session import UserSession

__all__ = [
    "Alert",
    "AlertChannel",
    "AlertNotification",
    "AlertRule",
    "AlertRuleChannel",
    "ApiKey",
    "AuditEvent",
    "BulkJob",
    "BulkJobItem",
    "FleetUsageDay",
    "LoginLockout",
    "ProviderAccount",
    "QuotaSample",
    "Role",
    "SavedView",
    "Sim",
    "SimAction",
    "SimChange",
    "SimDocument",
    "SimEvent",
    "SimUsagePeriod",
    "SyncRun",
    "UsageDay",
    "User",
    "UserSession",
]
